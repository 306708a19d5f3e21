/**
 * js-yaml 5, used for the fast first parse of workflow configs: its event stream carries source offsets
 * and builds plain values several times faster than the `yaml` package builds a Document. Values are
 * the same under the YAML 1.2 core schema with merge keys (a test compares them).
 */
import { CORE_SCHEMA, mergeTag } from 'js-yaml';

export { EVENT_ID, constructFromEvents, getScalarValue, parseEvents, type Event, type ScalarEvent } from 'js-yaml';

/** YAML 1.2 core schema plus `<<` merge keys: what the `yaml` package reads with `merge: true`. */
export const FAST_SCHEMA = CORE_SCHEMA.withTags(mergeTag);
