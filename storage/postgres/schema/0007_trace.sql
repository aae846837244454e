-- jobdeck schema 7 (PostgreSQL): the trace context of the submit that made a job.
--
-- The W3C traceparent of the OpenTelemetry span that submitted the job (NULL when nothing
-- traced the submit). The worker links each attempt's span to it, so a trace shows which
-- request a job came from even when it ran much later, in another process. A nullable column
-- without a default is added without rewriting the table.
ALTER TABLE jobs ADD COLUMN trace_context text;
