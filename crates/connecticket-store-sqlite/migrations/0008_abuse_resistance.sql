-- Abuse resistance: a second-factor code is good once, and an SMS
-- gateway's callback is acted on once.

-- The step (30-second period) of the last code each account signed in or
-- enrolled with; that step and earlier ones are refused after.
CREATE TABLE totp_steps (
    employee_id INTEGER PRIMARY KEY REFERENCES employees (id),
    last_step   INTEGER NOT NULL
);

-- Gateway callbacks already handled, by kind (`status:delivered`,
-- `reply`, …) and the gateway's MessageSid: a replay, or the gateway's
-- own retry, changes nothing. Kept a week, longer than any gateway
-- retries.
CREATE TABLE gateway_callbacks (
    kind        TEXT    NOT NULL,
    message_sid TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (kind, message_sid)
);
CREATE INDEX gateway_callbacks_by_time ON gateway_callbacks (received_at);
