"""Probers: one module per protocol, one contract (see edgesla.probes._result).

    postgres_query        latency of a configurable SQL statement
    postgres_replication  heartbeat lag origin->peer, subscription/walsender/slot health
    postgres_convergence  divergent rows per table and node pair (key-range checksums)
    mongodb_query         latency of a find/aggregate (default: a random subscriber by id)
    mongodb_replication   replica-set members, primary, signed optime lag
    etcd                  per-member health, leader, quorum, fsync p99
    kube_apiserver        /livez, /readyz?verbose per check, leader Lease freshness

``edgesla.probes.registry.PROBERS`` maps the config's ``prober:`` key to the function.
"""
