-- A sender claims a notification before delivering it (OutboxStore::claim_next): until
-- claimed_until (Unix seconds) no other sender takes it, so two senders never deliver one
-- notice twice. Recording the attempt clears the claim; a sender killed between delivering and
-- recording leaves it claimed until the lease runs out, and then it is delivered again
-- (at least once, with the same notice id).
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
