"""The live harness: a fresh backend per strategy, the writer, the strategies, records, counts."""
