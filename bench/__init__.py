"""The benchmark: scenarios -> workloads -> strategies -> records -> cost -> charts.

``bench`` composes ``pollers`` and ``event_handlers``; neither of them imports it.
"""
