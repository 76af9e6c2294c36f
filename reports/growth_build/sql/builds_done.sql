-- Record that the classroom units %(classroom_unit_ids)s were built as of %(read_from)s.
-- Their update is no longer pending, unless a score changed after the rebuild began to read
-- (a change it may have missed): such a build stays stale, and the caller queues its
-- rebuild. Run last, just before the commit: a score save marking its class stale waits
-- only for that commit, never for a whole rebuild. Returns the classroom units still stale.
INSERT INTO reports_growthbuild (classroom_unit_id, built_at, stale_since, failure_message)
SELECT classroom_unit_id, %(read_from)s, NULL, ''
FROM unnest(%(classroom_unit_ids)s::bigint[]) AS scope(classroom_unit_id)
ON CONFLICT (classroom_unit_id) DO UPDATE
SET built_at = EXCLUDED.built_at,
    stale_since = CASE WHEN reports_growthbuild.last_change_at >= %(read_from)s
                       THEN reports_growthbuild.stale_since END
RETURNING classroom_unit_id, stale_since IS NOT NULL AS is_still_stale
