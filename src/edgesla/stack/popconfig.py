"""The PoP config that describes the local stack's targets, in the exporter's format."""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla.config import (
    Defaults,
    EtcdTarget,
    ExporterSettings,
    LoadTestSettings,
    MongoQueryTarget,
    MongoReplicationTarget,
    PopConfig,
    PostgresConvergenceTarget,
    PostgresNode,
    PostgresQueryTarget,
    PostgresReplicationTarget,
)
from edgesla.stack import etcd, mongo, postgres, selfcare
from edgesla.stack.layout import ETCD_MEMBERS, HOST, PG_NODES, Layout
from edgesla.stack.seed import subscriber_id

__all__ = ["LOCAL_POP", "LOCAL_REGION", "stack_pop_config"]

LOCAL_POP = "local-pop"
LOCAL_REGION = "local"


def stack_pop_config(layout: Layout) -> PopConfig:
    masters = tuple(
        PostgresNode(name=node, dsn=postgres.dsn(layout, node), sslmode="disable")
        for node in PG_NODES
    )
    billing_lookup = (
        "SELECT plan, balance_cents FROM public.billing_account "
        f"WHERE subscriber_id = '{subscriber_id(0)}'"
    )
    return PopConfig(
        version=1,
        pop=LOCAL_POP,
        region=LOCAL_REGION,
        defaults=Defaults(interval=5.0, timeout=2.0, jitter=0.5),
        exporter=ExporterSettings(listen=f"{HOST}:{layout.exporter_port}"),
        loadtest=LoadTestSettings(
            selfcare_url=selfcare.url(layout),
            # scraped by the stack's Prometheus (job edgesla-loadtest) while a run is on
            metrics_listen=f"{HOST}:{layout.loadtest_metrics_port}",
        ),
        targets=(
            MongoQueryTarget(
                name="subscribers-lookup",
                prober="mongodb_query",
                uri=mongo.uri(layout),
                database=conv.MONGO_DATABASE,
                collection=conv.MONGO_SUBSCRIBERS,
            ),
            MongoReplicationTarget(
                name="subscribers-replset", prober="mongodb_replication", uri=mongo.uri(layout)
            ),
            *(
                PostgresQueryTarget(
                    name=f"{node}-billing-lookup",
                    prober="postgres_query",
                    dsn=postgres.dsn(layout, node),
                    query=billing_lookup,
                    sslmode="disable",
                )
                for node in PG_NODES
            ),
            PostgresReplicationTarget(
                name="pg-multimaster", prober="postgres_replication", nodes=masters
            ),
            PostgresConvergenceTarget(
                name="pg-convergence",
                prober="postgres_convergence",
                nodes=masters,
                tables=(
                    f"public.{conv.PG_TABLE_SUBSCRIBER}",
                    f"public.{conv.PG_TABLE_BILLING}",
                ),
                # a table scan of each master: not every 5 s; rows settle within the 30 s
                interval=30.0,
                timeout=10.0,
                settle_time=30.0,
            ),
            # probed every second (defaults.control_plane): what a user's etcd target gets
            EtcdTarget(
                name="etcd",
                prober="etcd",
                endpoints=tuple(etcd.client_url(layout, m) for m in ETCD_MEMBERS),
            ),
        ),
    )
