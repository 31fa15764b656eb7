"""People who use the console and API: roles, Argon2id passwords, sessions, and the actor every change is recorded
under. Machines (sensors, extensions, scripts) keep their own credentials: API keys in collector.keys."""
