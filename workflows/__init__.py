"""The process: one durable Temporal workflow per cycle, small child workflows per unit and per
debrief session. Every human step is an update whose validator asks ``domain.rules``; its
handler appends the domain events through an idempotent activity."""
