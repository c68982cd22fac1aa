import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { UsageError } from '@hotpath/cli-kit';
import { isCi, parseUpOptions } from './up-options';

describe('parseUpOptions', () => {
  it('defaults to 3000/9464, the built-in config and .hotpath under cwd', () => {
    const o = parseUpOptions([], {}, true, '/repo');
    assert.equal(o.port, 3000);
    assert.equal(o.metricsPort, 9464);
    assert.equal(o.configPath, undefined);
    assert.equal(o.dataDir, '/repo/.hotpath');
    assert.equal(o.worker, true);
    assert.equal(o.logFiles, false);
    assert.equal(o.readyTimeoutS, 60);
    assert.equal(o.interactive, true);
  });

  it('reads PORT, METRICS_PORT, HOTPATH_CONFIG, HOTPATH_DATA_DIR and REDIS_URL', () => {
    const o = parseUpOptions(
      [],
      {
        PORT: '8080',
        METRICS_PORT: '9100',
        HOTPATH_CONFIG: 'cfg/cluster.yaml',
        HOTPATH_DATA_DIR: '/var/hp',
        REDIS_URL: 'redis://r:6379',
        HOST: '::1',
      },
      false,
      '/repo',
    );
    assert.equal(o.port, 8080);
    assert.equal(o.metricsPort, 9100);
    assert.equal(o.configPath, '/repo/cfg/cluster.yaml');
    assert.equal(o.dataDir, '/var/hp');
    assert.equal(o.redisUrl, 'redis://r:6379');
    assert.equal(o.host, '::1');
  });

  it('lets flags win over variables, in both --flag value and --flag=value forms', () => {
    const o = parseUpOptions(
      ['--port', '4100', '--metrics-port=4101', '--config', '/etc/hp.yaml', '--no-worker', '--log-files'],
      { PORT: '8080' },
      true,
      '/repo',
    );
    assert.equal(o.port, 4100);
    assert.equal(o.metricsPort, 4101);
    assert.equal(o.configPath, '/etc/hp.yaml');
    assert.equal(o.worker, false);
    assert.equal(o.logFiles, true);
  });

  it('rejects bad values with a UsageError naming the flag or variable', () => {
    const bad: [string[], Record<string, string>, RegExp][] = [
      [['--port', 'abc'], {}, /--port/],
      [['--port', '0'], {}, /--port/],
      [['--port', '70000'], {}, /--port/],
      [['--metrics-port'], {}, /needs a value/],
      [['--port', '--no-worker'], {}, /needs a value/],
      [['--config='], {}, /--config/],
      [['--ready-timeout', '0'], {}, /--ready-timeout/],
      [['--what'], {}, /unknown option --what/],
      [['extra'], {}, /unexpected argument/],
      [['--port', '5000', '--metrics-port', '5000'], {}, /must differ/],
      [[], { PORT: 'x' }, /PORT/],
      [[], { METRICS_PORT: '99999' }, /METRICS_PORT/],
    ];
    for (const [argv, env, re] of bad) {
      assert.throws(
        () => parseUpOptions(argv, env, false, '/repo'),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
        `${argv.join(' ')} ${JSON.stringify(env)}`,
      );
    }
  });

  it('--redis-cluster starts a local Redis Cluster, and refuses REDIS_URL alongside', () => {
    assert.equal(parseUpOptions(['--redis-cluster'], {}, false, '/').redisCluster, true);
    assert.equal(parseUpOptions([], {}, false, '/').redisCluster, false);
    assert.throws(
      () => parseUpOptions(['--redis-cluster'], { REDIS_URL: 'redis://r:1' }, false, '/'),
      (e: unknown) => e instanceof UsageError && /unset REDIS_URL/.test(e.message),
    );
  });

  it('allows equal ports when no worker runs', () => {
    assert.equal(
      parseUpOptions(['--port', '5000', '--metrics-port', '5000', '--no-worker'], {}, false, '/').port,
      5000,
    );
  });

  it('is quiet in CI and when not on a terminal', () => {
    assert.equal(parseUpOptions([], { CI: 'true' }, true, '/').interactive, false);
    assert.equal(parseUpOptions([], {}, false, '/').interactive, false);
    assert.equal(parseUpOptions([], { CI: 'false' }, true, '/').interactive, true);
    assert.equal(isCi('1'), true);
    assert.equal(isCi(''), false);
    assert.equal(isCi(undefined), false);
  });
});
