/**
 * Out-of-band clean operations over Redfish (iLO 5/6), as the iLO REST API
 * documents them: the Bios resource's `#Bios.ResetBios` action (POST
 * `{"ResetType": "default"}`) and the SecureBoot resource's
 * `#SecureBoot.ResetKeys` action. Both are pending until the next POST.
 */
import { BmcError } from '../errors';
import type { SecureBootKeysReset } from '../types';
import type { RedfishClient } from './client';
import { obj, odataId, type RedfishLinks } from './links';

function actionTarget(doc: Record<string, unknown>, name: string): string | undefined {
  const t = obj(obj(doc.Actions)[name]).target;
  return typeof t === 'string' ? t : undefined;
}

export async function resetBiosToDefault(client: RedfishClient, links: RedfishLinks): Promise<void> {
  const { current } = await links.bios();
  const doc = await client.get(current, 'read the BIOS settings');
  const target = actionTarget(doc, '#Bios.ResetBios');
  if (!target) throw new BmcError('not-supported', 'reset the BIOS settings to default: this iLO offers no #Bios.ResetBios action', { target: client.target });
  await client.post(target, { ResetType: 'default' }, 'reset the BIOS settings to default');
}

export async function resetSecureBootKeys(client: RedfishClient, links: RedfishLinks, how: SecureBootKeysReset): Promise<void> {
  const what = how === 'default' ? 'reset the secure boot keys to default' : 'clear the secure boot keys';
  const id = odataId((await links.system()).SecureBoot);
  if (!id) throw new BmcError('not-supported', `${what}: this server has no SecureBoot resource`, { target: client.target });
  const target = actionTarget(await client.get(id, 'read the secure boot settings'), '#SecureBoot.ResetKeys');
  if (!target) throw new BmcError('not-supported', `${what}: this iLO offers no #SecureBoot.ResetKeys action`, { target: client.target });
  await client.post(target, { ResetKeysType: how === 'default' ? 'ResetAllKeysToDefault' : 'DeleteAllKeys' }, what);
}
