export function NotFoundPage() {
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">No such page</h1>
      <p>
        This address is not a page of the dashboard. Go to the <a href="/">overview</a>.
      </p>
    </section>
  );
}
