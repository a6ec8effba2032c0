/**
 * Clean plans as an operator writes them: priorities over Ironic's
 * defaults, highest first, 0 leaves a step out; every bad entry refused
 * naming its field; the deploy node's option and msg.deploy.clean.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanPlanFor } from '../../lib/deploy/flow';
import { cleanPlan, cleanSteps } from '../../lib/deploy/processes/clean-plan';
import { deployProcesses } from '../../lib/deploy/processes';

const names = (steps: Array<{ step: string }>): string[] => steps.map((s) => s.step);

function refused(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: Error & { code?: string; field?: string }) => {
    assert.equal(err.code, 'invalid-input');
    assert.ok(err.message.startsWith(`${field}:`), `${err.message} names ${field}`);
    return true;
  });
}

describe('clean plans', () => {
  test('defaults: Ironic automated cleaning with the iLO driver (metadata erase, secure boot keys, BIOS), then media and one-time boot', () => {
    assert.deepEqual(names(cleanSteps(undefined, 'cleanSteps')), ['erase_devices_metadata', 'reset_secure_boot_keys_to_default', 'reset_bios_to_default', 'eject_media', 'clear_one_time_boot']);
    assert.deepEqual(cleanSteps('', 'cleanSteps'), cleanSteps([], 'cleanSteps'));
  });

  test('a list sets priorities over the defaults: erase_devices asked for, a step turned off, another moved first', () => {
    const steps = cleanSteps('[{"step": "erase_devices", "priority": 50}, {"step": "reset_bios_to_default", "priority": 0}, {"step": "eject_media", "priority": 100, "interface": "management"}]', 'cleanSteps');
    assert.deepEqual(names(steps), ['eject_media', 'erase_devices_metadata', 'erase_devices', 'reset_secure_boot_keys_to_default', 'clear_one_time_boot']);
    assert.deepEqual(steps.find((s) => s.step === 'erase_devices'), { step: 'erase_devices', priority: 50 });
  });

  test('bad entries are refused naming the field and the entry', () => {
    refused(() => cleanSteps('[{"step": "erase_devices"', 'cleanSteps'), 'cleanSteps');
    refused(() => cleanSteps({ step: 'erase_devices' }, 'cleanSteps'), 'cleanSteps');
    refused(() => cleanSteps([{ step: 'format_c', priority: 1 }], 'cleanSteps'), 'cleanSteps[0].step');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: 1 }, { step: 'erase_devices', priority: 2 }], 'cleanSteps'), 'cleanSteps[1].step');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: -1 }], 'cleanSteps'), 'cleanSteps[0].priority');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: 1.5 }], 'cleanSteps'), 'cleanSteps[0].priority');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: 1, interface: 'management' }], 'cleanSteps'), 'cleanSteps[0].interface');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: 1, args: [] }], 'cleanSteps'), 'cleanSteps[0].args');
    refused(() => cleanSteps([{ step: 'erase_devices', priority: 1, when: 'now' }], 'cleanSteps'), 'cleanSteps[0].when');
    refused(() => cleanPlan({ steps: [{ step: 'x', priority: 1 }] }, 'msg.deploy.clean', []), 'msg.deploy.clean.steps[0].step');
    refused(() => cleanPlan({ deployKernel: '/k' }, 'msg.deploy.clean', []), 'msg.deploy.clean.deployRamdisk');
    refused(() => cleanPlan('yes', 'msg.deploy.clean', []), 'msg.deploy.clean');
  });

  test("the deploy node's option, and msg.deploy.clean over it", () => {
    const node = { clean: 'undeploy', cleanSteps: '[{"step": "erase_devices", "priority": 5}]' };
    assert.deepEqual(names(cleanPlanFor('undeploy', node, undefined)?.steps ?? []), ['erase_devices_metadata', 'reset_secure_boot_keys_to_default', 'reset_bios_to_default', 'erase_devices', 'eject_media', 'clear_one_time_boot']);
    assert.equal(cleanPlanFor('deploy', node, undefined), undefined, "'undeploy' does not clean before a deploy");
    assert.ok(cleanPlanFor('deploy', { ...node, clean: 'always' }, undefined));
    assert.equal(cleanPlanFor('undeploy', node, false), undefined, 'msg.deploy.clean = false: no cleaning');
    assert.equal(cleanPlanFor('undeploy', { clean: '' }, undefined), undefined);
    assert.deepEqual(cleanPlanFor('undeploy', { clean: '' }, { deployIso: '/srv/ipa.iso' })?.deployIso, '/srv/ipa.iso');
    assert.equal(cleanPlanFor('rebuild', { clean: 'always' }, true), undefined, 'a rebuild never cleans');
    refused(() => cleanPlanFor('undeploy', { clean: 'sometimes' }, undefined), 'clean');
    refused(() => cleanPlanFor('undeploy', { clean: 'undeploy', cleanSteps: '{}' }, undefined), 'cleanSteps');
  });

  test("a deploy's plan is checked by the process: known steps, and an agent to run them", () => {
    const p = deployProcesses();
    const base = { image: '/i.img', deployIso: '/d.iso' };
    p.agent_ilo.validate({ method: 'agent_ilo', ...base, clean: { steps: cleanSteps([], 'x') } });
    refused(() => p.iscsi_ilo.validate({ method: 'iscsi_ilo', ...base, clean: { steps: cleanSteps([], 'x') } }), 'clean.deployIso');
    p.iscsi_ilo.validate({ method: 'iscsi_ilo', ...base, clean: { steps: cleanSteps([], 'x'), deployIso: '/ipa.iso' } });
    refused(() => p.agent_ilo.validate({ method: 'agent_ilo', ...base, clean: { steps: [{ step: 'erase_devices', priority: 0 }] } }), 'clean.steps[0].priority');
  });
});
