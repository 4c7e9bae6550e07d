"""Fault-injection tests against real servers: frozen processes, dropped packets, silent peers."""
