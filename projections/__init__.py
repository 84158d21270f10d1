"""Read models fed from the event log with exactly-once tracking; every table here can be
dropped and rebuilt from the log (``kaohe projections rebuild``)."""
