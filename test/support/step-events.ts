/**
 * Raw operation appends for tests that forge a log (a foreign or older writer's history): the events of one
 * step with the ids the decider gives them (`op:<operationId>:<step>[:<attempt>]:<i>`).
 */
import type { WalletEvent } from "../../src/events/catalogue.js"
import { type OperationStep, operationEventId } from "../../src/events/ids.js"
import type { NewEvent } from "../../src/ports/event-store.js"

export const stepEvents = (
  operationId: string,
  step: OperationStep,
  events: ReadonlyArray<WalletEvent>,
  attempt?: number,
): NewEvent[] =>
  events.map((event, i) => ({ eventId: operationEventId(operationId, step, i, attempt), event }))
