"""The NGSI-LD query language: one AST (ast.py), its parsers, and the reference evaluator.

Parsers turn request parameters into the AST with names as given (terms); `expand` resolves
names to IRIs with the request's TermMap, giving the AST the stores and the evaluator use
(the stored form keeps expanded IRIs). Three consumers: `evaluate` (reference semantics, in
memory; subscriptions use it), the SQLite compiler and the MongoDB compiler (storage/).
"""
