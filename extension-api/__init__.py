"""Backend for the browser extension: enrolment, policy and telemetry (importable as `extension_api`)."""
