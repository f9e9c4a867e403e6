"""Developer tools that are neither the app nor its tests (the test and benchmark harness)."""
