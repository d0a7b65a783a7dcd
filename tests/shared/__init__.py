"""The shared tier's tests: real Valkey servers, standalone and Cluster (see conftest)."""
