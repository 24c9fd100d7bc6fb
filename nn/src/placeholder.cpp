// Replaced by the nn sources.
