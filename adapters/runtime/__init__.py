"""Running adapters: `agora adapters list|run` and `agora serve --adapters`."""
