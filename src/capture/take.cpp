/*
 * capture/take.cpp — the flush's take: shapes leave shared memory only when the flush commits.
 *
 * indexpilot._take_live_stats() (the flush's input) calls TakeForFlush. It first takes this database's
 * flush lock, a transaction-level heavyweight lock (so the worker and indexpilot_run_now() never flush at
 * once, and deadlock detection, lock_timeout and cancels work as for any lock), then moves the shapes'
 * counters into their in-flight part (StoreTake) and keeps a copy of what it took, with the subtransaction
 * that took it, in TopTransactionContext. (The worker does not wait for the lock: it skips that flush.) The transaction
 * callbacks end the take: at commit the in-flight counters are forgotten, at abort they go back, and a subtransaction
 * that rolls back returns exactly what it took (its lock goes with it). A prepared transaction cannot hold a take: it
 * would commit in another backend, after this one forgot it.
 *
 * Memory: the copies are allocated before anything is taken, so no ERROR can come between the take and
 * its registration here; the callbacks only take the store's lock and raise nothing.
 */
#include "indexpilot/capture/take.hpp"

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace indexpilot::capture
{

/*
 * The flush lock's tag: an advisory tag (database, "IPFL", 0) with a class (locktag_field4) that the SQL
 * advisory lock functions never use (they use 1 and 2), so no user's pg_advisory_lock() can hold it. It
 * shows in pg_locks as locktype 'advisory', objsubid 18768.
 */
inline constexpr uint32 kFlushLockKey = 0x4950464C;
inline constexpr uint16 kFlushLockClass = 0x4950;

/* What one (sub)transaction took. */
struct Take {
	ShapeEntry *entries;
	int n;
	SubTransactionId subid;
	Take *next;
};

static Take *s_takes = nullptr; /* in TopTransactionContext; nullptr outside a transaction that took */
static bool s_callbacks_registered = false;

bool
FlushInProgress()
{
	return s_takes != nullptr;
}

static void
TakeXactCallback(XactEvent event, void *)
{
	if (s_takes == nullptr)
		return;
	switch (event) {
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							errmsg("cannot PREPARE a transaction that flushed IndexPilot statistics")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			StoreSettleTake(MyDatabaseId, true);
			s_takes = nullptr;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			StoreSettleTake(MyDatabaseId, false);
			s_takes = nullptr;
			break;
		default:
			break;
	}
}

static void
TakeSubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *)
{
	if (s_takes == nullptr || (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;
	Take **link = &s_takes;
	while (*link != nullptr) {
		Take *take = *link;
		if (take->subid != mySubid) {
			link = &take->next;
			continue;
		}
		if (event == SUBXACT_EVENT_COMMIT_SUB) {
			take->subid = parentSubid; /* the parent took it now */
			link = &take->next;
		} else {
			StoreReturnTaken(take->entries, take->n);
			*link = take->next; /* its memory goes with the transaction */
		}
	}
}

int
TakeForFlush(ShapeEntry **out)
{
	if (!s_callbacks_registered) {
		RegisterXactCallback(TakeXactCallback, nullptr);
		RegisterSubXactCallback(TakeSubXactCallback, nullptr);
		s_callbacks_registered = true;
	}
	LOCKTAG tag;
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kFlushLockKey, 0, kFlushLockClass);
	// A session waits its turn (lock_timeout applies). The worker does not: a session that flushed and sits
	// idle in its transaction must not stall the worker's cycle; the shapes wait for the next interval.
	bool worker = MyBackendType == B_BG_WORKER;
	if (LockAcquire(&tag, ExclusiveLock, false, worker) == LOCKACQUIRE_NOT_AVAIL) {
		ereport(LOG, (errmsg("indexpilot: flush skipped: another transaction is flushing this database")));
		*out = static_cast<ShapeEntry *>(palloc(sizeof(ShapeEntry)));
		return 0;
	}

	// Room for every shape of the store now; shapes that arrive after this wait for the next flush.
	long capacity = StoreShapeCount();
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	auto *take = static_cast<Take *>(palloc0(sizeof(Take)));
	take->entries = static_cast<ShapeEntry *>(palloc_extended(Max(capacity, 1L) * sizeof(ShapeEntry), MCXT_ALLOC_HUGE));
	MemoryContextSwitchTo(old);
	take->subid = GetCurrentSubTransactionId();
	take->next = s_takes;
	s_takes = take;
	take->n = StoreTake(MyDatabaseId, take->entries, static_cast<int>(Min(capacity, static_cast<long>(INT_MAX))));
	*out = take->entries;
	return take->n;
}

} // namespace indexpilot::capture
