-- edgesla local PoP schema: identical on every PostgreSQL master.
-- Every replicated table carries modified_at / modified_by, and a trigger enforces the
-- seed document's last-write-wins rule on local writes and on changes applied by
-- logical replication alike (ENABLE ALWAYS). Names are schema-qualified everywhere:
-- the apply worker runs triggers with an empty search_path.

CREATE TABLE public.subscriber (
    subscriber_id   text PRIMARY KEY,
    subscriber_type text NOT NULL DEFAULT 'endcustomer',
    account_type    text NOT NULL CHECK (account_type IN ('residential', 'business')),
    service_level   text NOT NULL,
    full_name       text NOT NULL,
    email           text,
    status          text NOT NULL DEFAULT 'active',
    modified_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    modified_by     text NOT NULL DEFAULT current_setting('edgesla.node', true)
);

CREATE TABLE public.billing_account (
    subscriber_id     text PRIMARY KEY REFERENCES public.subscriber (subscriber_id),
    plan              text NOT NULL,
    monthly_fee_cents integer NOT NULL CHECK (monthly_fee_cents >= 0),
    balance_cents     bigint NOT NULL DEFAULT 0,
    currency          char(3) NOT NULL DEFAULT 'EUR',
    billing_cycle_day smallint NOT NULL CHECK (billing_cycle_day BETWEEN 1 AND 28),
    modified_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    modified_by       text NOT NULL DEFAULT current_setting('edgesla.node', true)
);

-- One row per origin node, rewritten by that node at its heartbeat interval. On a peer,
-- now() - beat_at of the origin's row is the end-to-end replication lag origin -> peer.
CREATE TABLE public.repl_heartbeat (
    origin      text PRIMARY KEY,
    beat_at     timestamptz NOT NULL,
    seq         bigint NOT NULL DEFAULT 0,
    modified_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    modified_by text NOT NULL DEFAULT current_setting('edgesla.node', true)
);

-- Last write wins. A row version is ordered by (modified_at, modified_by); modified_by
-- breaks exact timestamp ties the same way on every node, so both masters converge.
-- A local UPDATE that leaves modified_at unchanged is stamped with the current time and
-- this node's name; an UPDATE (local or replicated) older than the stored row is refused:
-- the row is left as it is and the statement reports 0 rows.
CREATE FUNCTION public.edgesla_last_write_wins() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('session_replication_role') <> 'replica'
       AND NEW.modified_at IS NOT DISTINCT FROM OLD.modified_at THEN
        NEW.modified_at := pg_catalog.clock_timestamp();
        NEW.modified_by := pg_catalog.current_setting('edgesla.node', true);
    END IF;
    IF (NEW.modified_at, NEW.modified_by) < (OLD.modified_at, OLD.modified_by) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER subscriber_lww BEFORE UPDATE ON public.subscriber
    FOR EACH ROW EXECUTE FUNCTION public.edgesla_last_write_wins();
CREATE TRIGGER billing_account_lww BEFORE UPDATE ON public.billing_account
    FOR EACH ROW EXECUTE FUNCTION public.edgesla_last_write_wins();
CREATE TRIGGER repl_heartbeat_lww BEFORE UPDATE ON public.repl_heartbeat
    FOR EACH ROW EXECUTE FUNCTION public.edgesla_last_write_wins();
ALTER TABLE public.subscriber ENABLE ALWAYS TRIGGER subscriber_lww;
ALTER TABLE public.billing_account ENABLE ALWAYS TRIGGER billing_account_lww;
ALTER TABLE public.repl_heartbeat ENABLE ALWAYS TRIGGER repl_heartbeat_lww;
