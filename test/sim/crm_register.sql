-- Registers the mini-CRM (test/sim/crm_schema.sql) in IndexPilot's genome: tenant_id is the tenant key of
-- every table, every field is core except the per-tenant custom fields contacts.custom_text_1..3.
-- Run as a superuser (or a role granted the control functions) after CREATE EXTENSION indexpilot.
SELECT indexpilot_register('crm.tenants', 'tenant_id') AS tenants_fields,
       indexpilot_register('crm.organizations', 'tenant_id') AS organizations_fields,
       indexpilot_register('crm.contacts', 'tenant_id') AS contacts_fields,
       indexpilot_register('crm.interactions', 'tenant_id') AS interactions_fields;
SELECT indexpilot_mark_optional('crm.contacts', 'custom_text_1', 'custom_text_2', 'custom_text_3') AS optional_fields;
