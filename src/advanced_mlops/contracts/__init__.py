"""Data contracts: Great Expectations suites kept as files in `data_contracts/`."""
