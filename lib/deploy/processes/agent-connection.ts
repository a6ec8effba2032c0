/**
 * The client every agent_ilo step talks to the agent with: its callback URL,
 * the deploy's token, and the trust the heartbeat established (the
 * certificate it sent as agent_verify_ca, or the operator's agent CA).
 */
import { AgentClient } from '../agent-client';
import { agentTrust } from '../agent-tls';
import type { AgentIloData } from './data';
import { required, type Ctx } from './steps';

export function agentClient(ctx: Ctx<AgentIloData>): AgentClient {
  return new AgentClient(required(ctx.data.agentUrl, "the agent's callback URL"), ctx.record.token, { trust: agentTrust(ctx.data.agentVerifyCa, ctx.deps.settings.agentCa) });
}
