-- Registers the surrogate form of the mini-CRM (test/sim/crm_schema_surrogate.sql) in IndexPilot's genome:
-- the tenant key is crm.tenants.id and tenant_id in every other table; every field is core except the
-- per-tenant custom fields contacts.custom_text_1..3. Run as a superuser after CREATE EXTENSION indexpilot.
SELECT indexpilot_register('crm.tenants', 'id') AS tenants_fields,
       indexpilot_register('crm.organizations', 'tenant_id') AS organizations_fields,
       indexpilot_register('crm.contacts', 'tenant_id') AS contacts_fields,
       indexpilot_register('crm.interactions', 'tenant_id') AS interactions_fields;
SELECT indexpilot_mark_optional('crm.contacts', 'custom_text_1', 'custom_text_2', 'custom_text_3') AS optional_fields;
