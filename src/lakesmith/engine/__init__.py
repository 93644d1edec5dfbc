"""The data plane: Spark Connect sessions (embedded Sail or remote), plan inspection and rewriting."""
