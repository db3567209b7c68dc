-- A provider's own wording for notifications (checked when saved; the
-- default wording where unset).
ALTER TABLE notification_policies ADD COLUMN sms_template TEXT;
ALTER TABLE notification_policies ADD COLUMN email_subject_template TEXT;
ALTER TABLE notification_policies ADD COLUMN email_body_template TEXT;
