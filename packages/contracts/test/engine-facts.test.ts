/**
 * The reader behind upstream/engine-behaviour.json: given Go source shaped like the engine's (written
 * here for the test), it finds the step registrations, each factory's refusals with their lines, and
 * the module and router rules. The refresh script feeds it real files; tests never need the engine.
 */
import t from 'tap';
import { readEngineFacts } from '../scripts/engine-facts.js';
import { keepEarlier } from '../scripts/read-engine.js';

const plugin = `package demo
func (p *Plugin) StepFactories() map[string]plugin.StepFactory {
	return map[string]plugin.StepFactory{
		"step.greet": wrapStepFactory(module.NewGreetStepFactory()),
		"step.loop":  wrapStepFactory(module.NewLoopStepFactory(func() *module.StepRegistry {
	}
}
`;

const greet = `package module

func NewGreetStepFactory() StepFactory {
	return func(name string, config map[string]any, _ modular.Application) (PipelineStep, error) {
		who, _ := config["who"].(string)
		if who == "" {
			who, _ = config["name"].(string)
		}
		if who == "" {
			return nil, fmt.Errorf("greet step %q: 'who' is required", name)
		}
		tone, _ := config["tone"].(string)
		switch tone {
		case "warm", "cold":
		default:
			return nil, fmt.Errorf("greet step %q: invalid tone %q", name, tone)
		}
		sql, _ := config["sql"].(string)
		if strings.Contains(sql, "{{") {
			return nil, fmt.Errorf("no templates")
		}
		return &GreetStep{}, nil
	}
}
`;

const loop = `package module

func NewLoopStepFactory(registryFn func() *StepRegistry) StepFactory {
	return func(name string, config map[string]any, app modular.Application) (PipelineStep, error) {
		items, _ := config["items"].(map[string]any)
		if len(items) == 0 {
			return nil, fmt.Errorf("loop step %q: 'items' map is required and must not be empty", name)
		}
		mode, _ := config["mode"].(string)
		if mode != "all" && mode != "first" {
			return nil, fmt.Errorf("bad mode")
		}
		_, one := config["step"]
		_, many := config["steps"]
		if one && many {
			return nil, fmt.Errorf("loop step %q: 'step' and 'steps' are mutually exclusive", name)
		}
		return &LoopStep{}, nil
	}
}
`;

const validate = `package schema
func validateModuleConfig() {
	x := 1
	msg := fmt.Sprintf("required config field %q is missing", key)
	other := fmt.Sprintf("required config field %q must be a non-empty string", key)
}
`;

const router = `package module
func (r *StandardHTTPRouter) AddRouteWithMiddleware() {
	fmt.Printf("Route already exists, skipping: %s %s\\n", method, path)
}
func (r *StandardHTTPRouter) rebuildMuxLocked() {
	mux.HandleFunc(fmt.Sprintf("%s %s", route.Method, route.Path), func() {})
}
`;

t.test('reads registrations, factory refusals, module and router rules, with file:line', async (t) => {
  const facts = readEngineFacts(
    [
      { path: 'plugins/demo/plugin.go', text: plugin, commit: 'c1' },
      { path: 'module/pipeline_step_greet.go', text: greet, commit: 'c2' },
      { path: 'module/loop_things.go', text: loop, commit: 'c3' },
      { path: 'schema/validate.go', text: validate, commit: 'c4' },
      { path: 'module/http_router.go', text: router, commit: 'c5' },
    ],
    { note: 'test' },
  );
  t.same(facts.files['module/loop_things.go'], { commit: 'c3' });
  t.same(facts.modules, {
    requiredKeys: 'schema/validate.go:4',
    requiredNotEmpty: 'schema/validate.go:5',
    duplicateName: undefined,
    missingDependency: undefined,
  });
  t.same(facts.routes, { duplicateSkipped: 'module/http_router.go:3', muxPattern: 'module/http_router.go:6' });
  t.same(facts.steps['step.greet'], {
    factory: 'NewGreetStepFactory',
    file: 'module/pipeline_step_greet.go',
    required: [{ key: 'who', kind: 'text', source: 'module/pipeline_step_greet.go:10' }],
    options: [{ key: 'tone', values: ['warm', 'cold'], source: 'module/pipeline_step_greet.go:16' }],
    aliases: [{ key: 'who', alias: 'name', source: 'module/pipeline_step_greet.go:7' }],
    noTemplates: [{ key: 'sql', source: 'module/pipeline_step_greet.go:19' }],
    exclusive: [],
  });
  t.same(facts.steps['step.loop'], {
    factory: 'NewLoopStepFactory',
    file: 'module/loop_things.go',
    required: [{ key: 'items', kind: 'map', source: 'module/loop_things.go:7' }],
    options: [{ key: 'mode', values: ['all', 'first'], source: 'module/loop_things.go:11' }],
    aliases: [],
    noTemplates: [],
    exclusive: [{ keys: ['step', 'steps'], source: 'module/loop_things.go:16' }],
  });
});

t.test('a registered step whose factory is not among the files is left out, not guessed', async (t) => {
  const facts = readEngineFacts([{ path: 'plugins/demo/plugin.go', text: plugin, commit: 'c1' }]);
  t.same(facts.steps, {});
});

const shaped = `package module

func NewShapeStepFactory() StepFactory {
	return func(name string, cfg map[string]any, _ modular.Application) (PipelineStep, error) {
		strategy, _ := cfg["strategy"].(string)
		if strategy == "" {
			strategy = "fields"
		}
		switch strategy {
		case "schema":
			schema, ok := cfg["schema"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("shape step %q: schema strategy requires a 'schema' map", name)
			}
		case "fields", "names":
			raw, _ := cfg["fields"].([]any)
			if len(raw) == 0 {
				return nil, fmt.Errorf("shape step %q: fields strategy requires a non-empty 'fields' list", name)
			}
		default:
			return nil, fmt.Errorf("shape step %q: unknown strategy %q", name, strategy)
		}
		limit := 60
		if v, ok := cfg["limit"]; ok {
			limit = v.(int)
		}
		if limit <= 0 {
			return nil, fmt.Errorf("shape step %q: limit must be positive", name)
		}
		if v, ok := cfg["burst"]; ok {
			_ = v
		}
		s.sink, _ = cfg["sink"].(string)
		if s.sink == "" && len(ops) == 0 {
			return nil, fmt.Errorf("shape step %q: must specify 'sink' service or inline 'ops'", name)
		}
		_ = cfg["ops"]
		if s.sink == "" {
			return nil, fmt.Errorf("shape step %q: 'broker' or 'sink' is required when encryption is configured", name)
		}
		return &ShapeStep{}, nil
	}
}
`;

const httpSteps = `package http
func stepFactories() map[string]plugin.StepFactory {
	return map[string]plugin.StepFactory{
		"step.throttle": func(name string, cfg map[string]any) (any, error) {
			factory := module.NewThrottleStepFactory()
			return factory(name, cfg, nil)
		},
	}
}
`;

const throttle = `package module
func NewThrottleStepFactory() StepFactory {
	return func(name string, config map[string]any, _ modular.Application) (PipelineStep, error) {
		return &ThrottleStep{}, nil
	}
}
`;

t.test('reads requirements that depend on another key, defaults, one-of, positive numbers, and registrations by closure or file name', async (t) => {
  const facts = readEngineFacts([
    { path: 'module/pipeline_step_shape.go', text: shaped, commit: 'c6' },
    { path: 'plugins/http/steps.go', text: httpSteps, commit: 'c7' },
    { path: 'module/pipeline_step_throttle.go', text: throttle, commit: 'c8' },
  ]);
  t.same(facts.steps['step.throttle']?.factory, 'NewThrottleStepFactory', 'registered by a closure in a plugin map');
  t.same(facts.registeredByFileName, ['step.shape'], 'a step file no map names: its type from the file name');
  const shape = facts.steps['step.shape'];
  t.same(shape?.required, [
    { key: 'schema', kind: 'map', source: 'module/pipeline_step_shape.go:13', when: { key: 'strategy', values: ['schema'] } },
    { key: 'fields', kind: 'list', source: 'module/pipeline_step_shape.go:18', when: { key: 'strategy', values: ['fields', 'names'] } },
  ], "a requirement inside a case of a switch on a config key holds for that case's values only; 'x' is required when … is not a requirement");
  t.same(shape?.options, [{ key: 'strategy', values: ['schema', 'fields', 'names'], source: 'module/pipeline_step_shape.go:21' }], 'every case of the switch');
  t.same(shape?.defaults, [
    { key: 'strategy', value: 'fields', source: 'module/pipeline_step_shape.go:6' },
    { key: 'limit', source: 'module/pipeline_step_shape.go:23' },
  ]);
  t.same(shape?.positive, [{ key: 'limit', source: 'module/pipeline_step_shape.go:28' }]);
  t.same(shape?.oneOf, [{ keys: ['sink', 'ops'], source: 'module/pipeline_step_shape.go:35' }]);
  t.same(shape?.aliases, [], 'v, ok := reads of several keys are not aliases');
});

t.test('--keep extends earlier facts: steps from files not read again stay, with their commits', async (t) => {
  const earlier = readEngineFacts(
    [
      { path: 'plugins/demo/plugin.go', text: plugin, commit: 'c1' },
      { path: 'module/pipeline_step_greet.go', text: greet, commit: 'c2' },
      { path: 'schema/validate.go', text: validate, commit: 'c4' },
    ],
    { note: 'first' },
  );
  const fresh = readEngineFacts([{ path: 'module/pipeline_step_throttle.go', text: throttle, commit: 'c8' }], { note: 'second' });
  const merged = keepEarlier(earlier, fresh, 'second');
  t.same(Object.keys(merged.steps), ['step.greet', 'step.throttle']);
  t.same(merged.files['module/pipeline_step_greet.go'], { commit: 'c2' });
  t.same(merged.modules.requiredKeys, 'schema/validate.go:4', 'module rules not read again are kept');
  t.match(merged.note, /^first Extended: second$/);
  t.same(keepEarlier(merged, fresh, 'second').note, merged.note, 'running it again does not repeat the note');
});
