-- What the console lists besides order events: dead letters (operations) and trigger firings
-- (recent counts per trigger).
CREATE INDEX timeline_dead_letters ON timeline (occurred_at DESC, message_id DESC)
    WHERE kind = 'dead_letter';
CREATE INDEX timeline_firings ON timeline (occurred_at DESC) WHERE kind = 'trigger_firing';
