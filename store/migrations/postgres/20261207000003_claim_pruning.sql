-- Event claims are pruned by age in the background (oldest first, in bounded batches): an index on the time, so
-- each batch finds its rows without reading the whole table.
CREATE INDEX claimed_events_by_time ON claimed_events (claimed_at);
