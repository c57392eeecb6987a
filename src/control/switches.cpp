/*
 * control/switches.cpp — the runtime SQL switches: indexpilot_disable_system() and friends.
 *
 * A call checks its argument (nothing changes on bad input), appends to indexpilot.mutation_log through
 * indexpilot._log_mutation(), and upserts the switch in indexpilot.bypass_switches (this database's
 * persisted switches, loaded by its worker after a restart). Shared memory changes only when the
 * transaction commits (an XactCallback), so a rolled-back call (or savepoint) changes nothing anywhere;
 * every backend sees the new value at its next executor hook.
 *
 * Privileges: EXECUTE is revoked from PUBLIC; superusers may GRANT it (docs/bypass.md). The internal writes
 * run as the extension's owner (SECURITY_LOCAL_USERID_CHANGE), so EXECUTE is all a delegated role needs;
 * mutation_log records the session user as actor and the calling role in details.
 *
 * Memory: C++ objects (the argument string) exist only while the argument is parsed; everything after runs
 * as plain C, so a PostgreSQL ERROR skips no destructor. Pending changes live in a small static array.
 */
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/control/state.hpp"

#include "indexpilot/core/config.hpp"
#include "indexpilot/pg/args.hpp"
#include "indexpilot/pg/guard.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace indexpilot::control
{

/* A change made by this transaction, applied to shared memory at commit. */
struct PendingChange {
	core::Switch sw;
	core::Setting value;
	TimestampTz changed_at;
	SubTransactionId subid;
	NameData role;
};

static constexpr int kMaxPending = 64;
static PendingChange s_pending[kMaxPending];
static int s_npending = 0;
static bool s_callbacks_registered = false;

/* Applies this transaction's changes; a change older than what another database applied loses. */
static void
ApplyPending() noexcept
{
	if (g_control != nullptr && s_npending > 0) {
		LWLockAcquire(g_control->lock, LW_EXCLUSIVE);
		for (int i = 0; i < s_npending; i++) {
			const PendingChange &p = s_pending[i];
			const int s = static_cast<int>(p.sw);
			if (p.changed_at < g_control->sql_changed_at[s])
				continue;
			g_control->sql.values[s] = p.value;
			g_control->sql_changed_at[s] = p.changed_at;
			g_control->sql_database[s] = MyDatabaseId;
			g_control->sql_role[s] = p.role;
		}
		(void)RecomputeLocked(g_control);
		LWLockRelease(g_control->lock);
	}
	s_npending = 0;
}

static void
OnXactEvent(XactEvent event, void *)
{
	switch (event) {
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			ApplyPending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			s_npending = 0;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (s_npending > 0)
				ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
								errmsg("cannot PREPARE a transaction that changed IndexPilot switches")));
			break;
		default:
			break;
	}
}

static void
OnSubXactEvent(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB) {
		int kept = 0;
		for (int i = 0; i < s_npending; i++) {
			if (s_pending[i].subid != mySubid)
				s_pending[kept++] = s_pending[i];
		}
		s_npending = kept;
	} else if (event == SUBXACT_EVENT_COMMIT_SUB) {
		for (int i = 0; i < s_npending; i++) {
			if (s_pending[i].subid == mySubid)
				s_pending[i].subid = parentSubid;
		}
	}
}

/* The extension's owner: the internal writes run as this role. */
static Oid
ExtensionOwner()
{
	if (SPI_execute("SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'indexpilot'", true, 1) !=
			SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("extension \"indexpilot\" is not installed in this database")));
	bool isnull = false;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static const char *
ActionName(core::Setting value)
{
	return value == core::Setting::Unset ? "reset" : value == core::Setting::On ? "enable" : "disable";
}

/* Tells the caller when the change will not show as asked (a stronger source, the system, no preload). */
static void
NoticeOutcome(core::Switch sw, core::Setting value)
{
	if (g_control == nullptr) {
		ereport(NOTICE, (errmsg("IndexPilot switch %s saved; it takes effect when the server runs with indexpilot in "
								"shared_preload_libraries and without the startup bypass",
								core::SwitchName(sw))));
		return;
	}
	auto *copy = static_cast<ControlState *>(palloc(sizeof(ControlState)));
	LWLockAcquire(g_control->lock, LW_SHARED);
	memcpy(copy, g_control, sizeof(ControlState));
	LWLockRelease(g_control->lock);
	copy->sql.Set(sw, value);
	const core::Resolution r = ResolveLocked(copy);
	if (value == core::Setting::Unset)
		ereport(NOTICE, (errmsg("IndexPilot switch %s is now decided by %s: %s", core::SwitchName(sw),
								core::SourceName(r.SourceOf(sw)), r.Value(sw) ? "on" : "off")));
	else if (value == core::Setting::On && !r.Effective(sw))
		ereport(NOTICE, (errmsg("IndexPilot %s %s is on, but stays ineffective while the system is off",
								core::KindName(core::KindOf(sw)), core::SwitchName(sw)),
						 errhint("The system switch is off (source: %s); indexpilot_enable_system() turns it on.",
								 core::SourceName(r.SourceOf(core::Switch::System)))));
}

/* Records and persists one switch change; shared memory follows at commit. Plain C: no C++ objects alive. */
static Datum
ChangeSwitch(core::Switch sw, core::Setting value)
{
	if (!s_callbacks_registered) {
		RegisterXactCallback(OnXactEvent, nullptr);
		RegisterSubXactCallback(OnSubXactEvent, nullptr);
		s_callbacks_registered = true;
	}
	if (s_npending >= kMaxPending)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("too many IndexPilot switch changes in one transaction (at most %d)", kMaxPending)));

	const char *role = GetUserNameFromId(GetUserId(), false);
	Oid save_user;
	int save_sec;
	GetUserIdAndSecContext(&save_user, &save_sec);

	SPI_connect();
	const Oid owner = ExtensionOwner();
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

	Oid log_types[5] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
	Datum log_values[5] = {
		CStringGetTextDatum(core::SwitchName(sw)), CStringGetTextDatum(core::KindName(core::KindOf(sw))),
		CStringGetTextDatum(ActionName(value)), BoolGetDatum(value == core::Setting::On), CStringGetTextDatum(role)};
	const char log_nulls[6] = {' ', ' ', ' ', value == core::Setting::Unset ? 'n' : ' ', ' ', '\0'};
	if (SPI_execute_with_args("SELECT indexpilot._log_mutation('bypass_switch', details => "
							  "pg_catalog.jsonb_build_object('switch', $1, 'kind', $2, 'action', $3, 'enabled', $4, "
							  "'role', $5, 'database', pg_catalog.current_database()))",
							  5, log_types, log_values, log_nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "indexpilot: could not append to indexpilot.mutation_log");
	bool isnull = false;
	const Datum mutation_id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	Oid types[4] = {TEXTOID, BOOLOID, TEXTOID, INT8OID};
	Datum values[4] = {log_values[0], log_values[3], log_values[4], mutation_id};
	const char nulls[5] = {' ', log_nulls[3], ' ', ' ', '\0'};
	if (SPI_execute_with_args("SELECT indexpilot._store_switch($1, $2, $3::pg_catalog.name, $4)", 4, types, values,
							  nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "indexpilot: could not write indexpilot.bypass_switches");
	const TimestampTz changed_at =
		DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	SetUserIdAndSecContext(save_user, save_sec);
	SPI_finish();

	PendingChange &p = s_pending[s_npending++];
	p.sw = sw;
	p.value = value;
	p.changed_at = changed_at;
	p.subid = GetCurrentSubTransactionId();
	namestrcpy(&p.role, role);

	NoticeOutcome(sw, value);
	PG_RETURN_VOID();
}

/* The switch a text argument names; throws core::Error (nothing changed yet) on NULL or a bad name. */
static core::Switch
ArgSwitch(FunctionCallInfo fcinfo, core::SwitchKind kind)
{
	const std::string name = pg::ArgText(fcinfo, 0, "name");
	return core::ParseSwitchName(kind, name);
}

static core::Switch
ArgAnySwitch(FunctionCallInfo fcinfo)
{
	const std::string name = pg::ArgText(fcinfo, 0, "name");
	return core::ParseAnySwitchName(name);
}

} // namespace indexpilot::control

using indexpilot::core::Setting;
using indexpilot::core::Switch;
using indexpilot::core::SwitchKind;

/* indexpilot_disable_system() returns void: level 3, everything off. */
INDEXPILOT_FUNCTION(indexpilot_disable_system)
{
	return indexpilot::control::ChangeSwitch(Switch::System, Setting::Off);
}

/* indexpilot_enable_system() returns void. */
INDEXPILOT_FUNCTION(indexpilot_enable_system)
{
	return indexpilot::control::ChangeSwitch(Switch::System, Setting::On);
}

/* indexpilot_disable_feature(name text) returns void. */
INDEXPILOT_FUNCTION(indexpilot_disable_feature)
{
	const Switch sw = indexpilot::control::ArgSwitch(fcinfo, SwitchKind::Feature);
	return indexpilot::control::ChangeSwitch(sw, Setting::Off);
}

/* indexpilot_enable_feature(name text) returns void. */
INDEXPILOT_FUNCTION(indexpilot_enable_feature)
{
	const Switch sw = indexpilot::control::ArgSwitch(fcinfo, SwitchKind::Feature);
	return indexpilot::control::ChangeSwitch(sw, Setting::On);
}

/* indexpilot_disable_module(name text) returns void. */
INDEXPILOT_FUNCTION(indexpilot_disable_module)
{
	const Switch sw = indexpilot::control::ArgSwitch(fcinfo, SwitchKind::Module);
	return indexpilot::control::ChangeSwitch(sw, Setting::Off);
}

/* indexpilot_enable_module(name text) returns void. */
INDEXPILOT_FUNCTION(indexpilot_enable_module)
{
	const Switch sw = indexpilot::control::ArgSwitch(fcinfo, SwitchKind::Module);
	return indexpilot::control::ChangeSwitch(sw, Setting::On);
}

/* indexpilot_reset_switch(name text) returns void: drops the SQL override; weaker sources decide again. */
INDEXPILOT_FUNCTION(indexpilot_reset_switch)
{
	const Switch sw = indexpilot::control::ArgAnySwitch(fcinfo);
	return indexpilot::control::ChangeSwitch(sw, Setting::Unset);
}
