-- Which node holds a pending delivery's lease, so that a node restarting frees only its own leases
-- (with several nodes on one database, the others' leases are live).
ALTER TABLE outbox ADD COLUMN locked_by TEXT COLLATE "C";
