-- The expert's hand-tuned index set for `make bench-advisor`: what a DBA who knows the workload
-- (test/sim/sim_logic.cpp, kPatterns) creates by hand, in both forms of the CRM (the columns are the same).
-- Every statement filters on tenant_id = $1 first, so every index leads with tenant_id: it serves the
-- pattern whatever the data (in the surrogate form an address repeats in every tenant, so email alone is
-- no key), and its prefix also serves the rare patterns' tenant_id = $1 (title, country) well enough that
-- they get no index of their own.
--   hot (14-24% of statements each): email, phone, industry, interactions by type and a 7-day range;
--   moderate (6%): custom_text_1, which only the few tenants that use the field fill in: a partial index
--     holds just their rows, a small fraction of a full one, and serves custom_text_1 = $2 (which implies
--     IS NOT NULL);
--   rare (0.5% each): contacts.title, organizations.country: nothing.
-- crmsim run --mode expert --indexes runs this after the warm-up, at the point where IndexPilot builds its
-- own, so both sets start the measured run equally fresh. Plain CREATE INDEX; the names say whose they are.
CREATE INDEX expert_contacts_email ON crm.contacts (tenant_id, email);
CREATE INDEX expert_contacts_phone ON crm.contacts (tenant_id, phone);
CREATE INDEX expert_organizations_industry ON crm.organizations (tenant_id, industry);
CREATE INDEX expert_interactions_type_date ON crm.interactions (tenant_id, type, occurred_at);
CREATE INDEX expert_contacts_custom_text_1 ON crm.contacts (tenant_id, custom_text_1) WHERE custom_text_1 IS NOT NULL;
