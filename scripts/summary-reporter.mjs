// node:test reporter that counts leaf tests and remembers what did not run,
// so the runner can print one summary line and a loud list of skips.
export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  const skipped = [];
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    if (data.details?.type === 'suite') continue;
    const where = data.file ? data.file.replace(/^.*\/dist\//, '') : '';
    if (data.skip !== undefined && data.skip !== false) {
      counts.skipped++;
      skipped.push({ name: data.name, reason: typeof data.skip === 'string' ? data.skip : '', file: where });
    } else if (data.todo !== undefined && data.todo !== false) {
      counts.todo++;
    } else if (event.type === 'test:pass') {
      counts.passed++;
    } else {
      counts.failed++;
      failed.push({ name: data.name, file: where, error: String(data.details?.error?.message ?? data.details?.error ?? '').slice(0, 500) });
    }
  }
  yield JSON.stringify({ counts, skipped, failed });
}
