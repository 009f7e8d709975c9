"""The rules of the provider. Services own the database session and are the only place that commits."""
