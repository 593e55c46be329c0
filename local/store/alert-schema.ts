/**
 * The tables of device baselines and alerts in the local store: state objects kept whole as JSON
 * (what the code reads) with the columns people filter on beside them.
 */
export const ALERT_TABLES = `
  CREATE TABLE IF NOT EXISTS device_baselines (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    state VARCHAR NOT NULL,
    active_version INTEGER,
    calibrating BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT now(),
    PRIMARY KEY (use_case, device_id)
  );
  CREATE TABLE IF NOT EXISTS baseline_versions (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    note VARCHAR NOT NULL,
    requested_by VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    activated_at TIMESTAMP NOT NULL,
    calibrated_from TIMESTAMP NOT NULL,
    calibrated_until TIMESTAMP NOT NULL,
    model_version VARCHAR NOT NULL,
    baseline JSON NOT NULL,
    PRIMARY KEY (use_case, device_id, version)
  );
  CREATE TABLE IF NOT EXISTS alert_tracks (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    inference VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    track VARCHAR NOT NULL,
    PRIMARY KEY (use_case, device_id, inference)
  );
  CREATE TABLE IF NOT EXISTS alerts (
    id VARCHAR PRIMARY KEY,
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    inference VARCHAR NOT NULL,
    device_group VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    delivery VARCHAR NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    first_anomaly_at TIMESTAMP NOT NULL,
    last_anomaly_at TIMESTAMP NOT NULL,
    cleared_at TIMESTAMP,
    peak_score DOUBLE NOT NULL,
    threshold DOUBLE NOT NULL,
    verdict VARCHAR,
    history_length INTEGER NOT NULL,
    alert VARCHAR NOT NULL
  );
  CREATE TABLE IF NOT EXISTS alert_events (
    type VARCHAR NOT NULL,
    alert_id VARCHAR NOT NULL,
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    happened_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL
  );
  CREATE TABLE IF NOT EXISTS silences (
    id VARCHAR PRIMARY KEY,
    use_case VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    silence VARCHAR NOT NULL
  );
  CREATE TABLE IF NOT EXISTS suppressions (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    inference VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    ref VARCHAR NOT NULL,
    suppressed_at TIMESTAMP NOT NULL,
    score DOUBLE NOT NULL
  );
  CREATE TABLE IF NOT EXISTS feedback (
    alert_id VARCHAR NOT NULL,
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    sensor VARCHAR,
    work_order VARCHAR,
    from_time TIMESTAMP NOT NULL,
    to_time TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    given_at TIMESTAMP NOT NULL,
    feedback VARCHAR NOT NULL
  );`;
