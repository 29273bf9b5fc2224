"""Built-in detectors, each registered under the haetae.detectors entry point group."""
