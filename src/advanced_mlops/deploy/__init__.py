"""Rolling a released image tag out on the deploy host: switch, smoke-test, roll back on failure."""
