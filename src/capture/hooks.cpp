/*
 * capture/hooks.cpp — executor hooks.
 *
 * Hot path: plain C-style code, no allocation, no C++ exceptions (nothing here can throw, so no guard is
 * needed); every hook calls the previous hook or the standard function, and the nesting depth is restored
 * in PG_FINALLY so an ERROR inside a nested statement cannot leave it wrong.
 */
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/control/bypass.hpp"

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "executor/executor.h"
}

namespace indexpilot::capture
{

static ExecutorStart_hook_type s_prev_start = nullptr;
static ExecutorRun_hook_type s_prev_run = nullptr;
static ExecutorFinish_hook_type s_prev_finish = nullptr;
static ExecutorEnd_hook_type s_prev_end = nullptr;

static int s_nesting_level = 0;

int
NestingLevel()
{
	return s_nesting_level;
}

static void
HookExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (!control::CaptureActive())
		return s_prev_start ? s_prev_start(queryDesc, eflags) : standard_ExecutorStart(queryDesc, eflags);
	if (s_prev_start)
		s_prev_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
HookExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	if (!control::CaptureActive())
		return s_prev_run ? s_prev_run(queryDesc, direction, count, execute_once)
						  : standard_ExecutorRun(queryDesc, direction, count, execute_once);
	s_nesting_level++;
	PG_TRY();
	{
		if (s_prev_run)
			s_prev_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		s_nesting_level--;
	}
	PG_END_TRY();
}

static void
HookExecutorFinish(QueryDesc *queryDesc)
{
	if (!control::CaptureActive())
		return s_prev_finish ? s_prev_finish(queryDesc) : standard_ExecutorFinish(queryDesc);
	s_nesting_level++;
	PG_TRY();
	{
		if (s_prev_finish)
			s_prev_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		s_nesting_level--;
	}
	PG_END_TRY();
}

static void
HookExecutorEnd(QueryDesc *queryDesc)
{
	if (!control::CaptureActive())
		return s_prev_end ? s_prev_end(queryDesc) : standard_ExecutorEnd(queryDesc);
	if (s_prev_end)
		s_prev_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

void
InstallHooks()
{
	s_prev_start = ExecutorStart_hook;
	ExecutorStart_hook = HookExecutorStart;
	s_prev_run = ExecutorRun_hook;
	ExecutorRun_hook = HookExecutorRun;
	s_prev_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = HookExecutorFinish;
	s_prev_end = ExecutorEnd_hook;
	ExecutorEnd_hook = HookExecutorEnd;
}

} // namespace indexpilot::capture
