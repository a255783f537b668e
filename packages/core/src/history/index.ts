export {
  HISTORY_ACTIONS,
  type HistoryAction,
  type HistoryActor,
  type HistoryEntry,
  operatorActor,
} from './history-entry.js'
export {
  type HistoryChange,
  type HistorySink,
  historyChanges,
  jsonLinesHistory,
  memoryHistory,
  readHistory,
} from './history-sink.js'
export {
  type ChangeFields,
  type HistoryContext,
  recordChange,
  recordedDeliver,
  recordedStore,
  recordedTarget,
} from './recorded-store.js'
export { currentRotationScope, inRotationScope, type RotationScope } from './rotation-scope.js'
