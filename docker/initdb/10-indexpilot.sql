-- Runs once, when the container initializes its data directory.
CREATE EXTENSION IF NOT EXISTS indexpilot;
