"""Results layer: replications reduced to KPIs and pandas tables; the replication runner."""
