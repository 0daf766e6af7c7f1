-- One open change per target (pending, approved or executing), enforced by the database for every path that
-- creates a request (chat, break-glass, a proposed rollback), so two replicas or two paths cannot race past it.
-- Requests that an older version let through side by side are closed first, keeping the oldest open one.
UPDATE approvals SET state = 'superseded',
       state_detail = 'closed by the upgrade: an older change to this target was still open',
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
 WHERE state IN ('pending', 'approved', 'executing')
   AND number NOT IN (SELECT MIN(number) FROM approvals
                       WHERE state IN ('pending', 'approved', 'executing') GROUP BY target_key);
CREATE UNIQUE INDEX approvals_one_open_per_target ON approvals (target_key)
 WHERE state IN ('pending', 'approved', 'executing');
