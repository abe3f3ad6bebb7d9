"""Simulation: a month of traffic in seconds, in the live results schema."""
