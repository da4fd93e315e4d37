/** The stored user filter language: public API. See README.md. */

export * from './types';
export {validateFilter, parseFilter} from './validate';
export {
  compileFilter,
  isNullish,
  type Attributes,
  type CompiledFilter,
} from './compile';
export {describeFilter} from './describe';
export {explain, type Explanation, type ExplainedNode} from './explain';
export {fromPythonForm, type PythonFilterForm} from './python-form';
export {
  toSubscriptionFilter,
  topicHasIdAttributes,
  type SubscriptionFilterOptions,
  type SubscriptionFilterPlan,
} from './subscription';
export {NORMALIZED_FIELDS, RECORD_ROOTS} from './fields';
