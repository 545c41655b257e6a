"""Model layer: the SimPy world that records a ledger. Never imports pandas, yaml or matplotlib."""
