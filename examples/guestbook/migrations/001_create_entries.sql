-- Guestbook entries (PostgreSQL). Applied once by migrate.py, inside a transaction.
CREATE TABLE IF NOT EXISTS entries (
    id         text        PRIMARY KEY,
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    message    text        NOT NULL CHECK (char_length(message) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS entries_created_at_idx ON entries (created_at DESC);
