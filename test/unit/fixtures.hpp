/*
 * fixtures.hpp — the model tables the cost-model and selection tests share.
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

namespace fixtures
{

/* contacts(1 id, 2 tenant_id, 3 email, 4 phone, 5 title, 6 custom_text_1, 7 custom_text_2): 1e6 rows, 20,000
 * pages, 10 writes/s. */
inline indexpilot::core::TableInfo
Contacts()
{
	indexpilot::core::TableInfo t;
	t.relid = 100;
	t.name = "crm.contacts";
	t.tenant_attnum = 2;
	t.expressed = {1, 2, 3, 4, 5, 6}; /* custom_text_2 (7): no tenant expresses it */
	t.existing = {{1}};               /* the primary key */
	t.tuples = 1e6;
	t.pages = 20000;
	t.writes_per_second = 10;
	return t;
}

} // namespace fixtures
