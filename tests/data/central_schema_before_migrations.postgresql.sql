-- The central schema exactly as `central_metadata.create_all()` made it before the central
-- server had migrations (main at 38e8e07), for the postgresql dialect. Frozen: never regenerate.

CREATE TABLE central_admin (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(200) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	revoked BOOLEAN NOT NULL,
	CONSTRAINT pk_central_admin PRIMARY KEY (id),
	CONSTRAINT uq_central_admin_token_hash UNIQUE (token_hash)
);

CREATE TABLE central_closure (
	id VARCHAR(64) NOT NULL,
	start_day VARCHAR(10) NOT NULL,
	end_day VARCHAR(10) NOT NULL,
	name VARCHAR(400) NOT NULL,
	name_ar VARCHAR(400) NOT NULL,
	estimated BOOLEAN NOT NULL,
	deleted BOOLEAN NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	seq BIGINT NOT NULL,
	updated_by VARCHAR(36) NOT NULL,
	CONSTRAINT pk_central_closure PRIMARY KEY (id)
);

CREATE INDEX ix_central_closure_seq ON central_closure (seq);

CREATE TABLE central_counter (
	name VARCHAR(40) NOT NULL,
	value BIGINT NOT NULL,
	CONSTRAINT pk_central_counter PRIMARY KEY (name)
);

CREATE TABLE central_course_session (
	id VARCHAR(64) NOT NULL,
	hall_code VARCHAR(40) NOT NULL,
	course VARCHAR(400) NOT NULL,
	trainer VARCHAR(400) NOT NULL,
	starts_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	ends_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	deleted BOOLEAN NOT NULL,
	seq BIGINT NOT NULL,
	updated_by VARCHAR(36) NOT NULL,
	CONSTRAINT pk_central_course_session PRIMARY KEY (id)
);

CREATE INDEX ix_central_course_session_seq ON central_course_session (seq);

CREATE TABLE central_device (
	id VARCHAR(36) NOT NULL,
	name VARCHAR(200) NOT NULL,
	halls VARCHAR(1000) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	ref_prefix VARCHAR(8),
	device_id VARCHAR(64),
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	bound_at TIMESTAMP WITHOUT TIME ZONE,
	last_seen_at TIMESTAMP WITHOUT TIME ZONE,
	revoked BOOLEAN NOT NULL,
	CONSTRAINT pk_central_device PRIMARY KEY (id),
	CONSTRAINT uq_central_device_token_hash UNIQUE (token_hash),
	CONSTRAINT uq_central_device_ref_prefix UNIQUE (ref_prefix),
	CONSTRAINT uq_central_device_device_id UNIQUE (device_id)
);

CREATE TABLE central_event (
	id VARCHAR(64) NOT NULL,
	seq BIGINT NOT NULL,
	ticket_id VARCHAR(64) NOT NULL,
	hall_code VARCHAR(40) NOT NULL,
	kind VARCHAR(40) NOT NULL,
	payload TEXT NOT NULL,
	device_id VARCHAR(64) NOT NULL,
	actor VARCHAR(200) NOT NULL,
	occurred_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	hlc VARCHAR(32) NOT NULL,
	received_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	pushed_by VARCHAR(36) NOT NULL,
	CONSTRAINT pk_central_event PRIMARY KEY (id),
	CONSTRAINT uq_central_event_seq UNIQUE (seq)
);

CREATE INDEX ix_central_event_hall_seq ON central_event (hall_code, seq);

CREATE INDEX ix_central_event_hlc ON central_event (hlc);

CREATE INDEX ix_central_event_ticket_hlc ON central_event (ticket_id, hlc, id);

CREATE TABLE central_form_rate (
	client_key VARCHAR(100) NOT NULL,
	hits TEXT NOT NULL,
	last_ms BIGINT NOT NULL,
	CONSTRAINT pk_central_form_rate PRIMARY KEY (client_key)
);

CREATE INDEX ix_central_form_rate_last_ms ON central_form_rate (last_ms);

CREATE TABLE central_form_submission (
	nonce VARCHAR(64) NOT NULL,
	ticket_id VARCHAR(64) NOT NULL,
	digest VARCHAR(64) NOT NULL,
	browser VARCHAR(64) NOT NULL,
	filed_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	CONSTRAINT pk_central_form_submission PRIMARY KEY (nonce)
);

CREATE INDEX ix_central_form_submission_browser ON central_form_submission (browser, digest);

CREATE TABLE central_kb_article (
	id VARCHAR(36) NOT NULL,
	slug VARCHAR(80) NOT NULL,
	title VARCHAR(400) NOT NULL,
	title_ar VARCHAR(400) NOT NULL,
	tags VARCHAR(1000) NOT NULL,
	body TEXT NOT NULL,
	body_ar TEXT NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	deleted BOOLEAN NOT NULL,
	seq BIGINT NOT NULL,
	updated_by VARCHAR(200) NOT NULL,
	CONSTRAINT pk_central_kb_article PRIMARY KEY (id),
	CONSTRAINT uq_central_kb_article_slug UNIQUE (slug)
);

CREATE INDEX ix_central_kb_article_seq ON central_kb_article (seq);

CREATE TABLE central_meta (
	key VARCHAR(100) NOT NULL,
	value VARCHAR(1000) NOT NULL,
	CONSTRAINT pk_central_meta PRIMARY KEY (key)
);

CREATE TABLE central_roster (
	id VARCHAR(64) NOT NULL,
	title VARCHAR(400) NOT NULL,
	title_ar VARCHAR(400) NOT NULL,
	responsibility VARCHAR(2000) NOT NULL,
	contact VARCHAR(400) NOT NULL,
	deleted BOOLEAN NOT NULL,
	seq BIGINT NOT NULL,
	CONSTRAINT pk_central_roster PRIMARY KEY (id)
);

CREATE INDEX ix_central_roster_seq ON central_roster (seq);

CREATE TABLE central_ticket (
	id VARCHAR NOT NULL,
	ref VARCHAR NOT NULL,
	hall_code VARCHAR NOT NULL,
	session_id VARCHAR,
	session_label VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	seat VARCHAR NOT NULL,
	trainee_name VARCHAR NOT NULL,
	trainee_contact VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	priority VARCHAR NOT NULL,
	channel VARCHAR NOT NULL,
	caller_number VARCHAR NOT NULL,
	remote_session_id VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	assignee VARCHAR NOT NULL,
	tier VARCHAR NOT NULL,
	created_by VARCHAR NOT NULL,
	origin_device VARCHAR NOT NULL,
	device_seq INTEGER NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	first_response_at TIMESTAMP WITHOUT TIME ZONE,
	resolved_at TIMESTAMP WITHOUT TIME ZONE,
	verified_at TIMESTAMP WITHOUT TIME ZONE,
	last_hlc VARCHAR NOT NULL,
	event_count INTEGER NOT NULL,
	conflicts INTEGER NOT NULL,
	is_open BOOLEAN NOT NULL,
	priority_rank INTEGER NOT NULL,
	pauses VARCHAR NOT NULL,
	warned VARCHAR NOT NULL,
	breached VARCHAR NOT NULL,
	escalation_level INTEGER NOT NULL,
	escalated_at TIMESTAMP WITHOUT TIME ZONE,
	rca_cause VARCHAR NOT NULL,
	rca_what VARCHAR NOT NULL,
	rca_action VARCHAR NOT NULL,
	rca_owner VARCHAR NOT NULL,
	rca_at TIMESTAMP WITHOUT TIME ZONE,
	CONSTRAINT pk_central_ticket PRIMARY KEY (id),
	CONSTRAINT uq_central_ticket_ref UNIQUE (ref)
);

CREATE INDEX ix_central_ticket_open ON central_ticket (is_open, hall_code);
