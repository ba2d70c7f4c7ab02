-- The raw-SQL posting baseline of the coin ledger benchmark: one transfer between two
-- accounts with as little SQL as such a posting can take. Each statement below runs in turn,
-- in one database transaction per posting; the ledger's own triggers (append-only, the
-- deferred balance check) run as they do for the service. Parameters: low and high (account
-- ids, low < high), low_amount and high_amount (summing to zero), id (the transaction's uuid),
-- and the balances and versions the UPDATE returned (low_after, low_version, high_after,
-- high_version).

-- 1. Lock both accounts, in id order (no deadlock, however postings cross).
SELECT id FROM federation_coinaccount
 WHERE id IN (%(low)s, %(high)s) ORDER BY id FOR UPDATE;

-- 2. Move their balances and versions; the database refuses a member account below zero.
UPDATE federation_coinaccount
   SET balance = balance + CASE id WHEN %(low)s THEN %(low_amount)s ELSE %(high_amount)s END,
       version = version + 1
 WHERE id IN (%(low)s, %(high)s)
RETURNING id, balance, version;

-- 3. The transaction.
INSERT INTO federation_cointransaction (id, kind, reason, reference, posted_at)
VALUES (%(id)s, 'transfer', '{}', '', now());

-- 4. Its two entries, each with the balance after it and the account version it made.
INSERT INTO federation_coinentry
       (transaction_id, account_id, amount, balance_after, account_version, posted_at)
VALUES (%(id)s, %(low)s, %(low_amount)s, %(low_after)s, %(low_version)s, now()),
       (%(id)s, %(high)s, %(high_amount)s, %(high_after)s, %(high_version)s, now());
